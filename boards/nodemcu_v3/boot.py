# boot.py for the NodeMCU v3: runs at every reset, also mpremote's soft reset.
import gc

import esp

esp.osdebug(None)  # vendor SDK debug output would land on the HC-05 UART
gc.collect()
