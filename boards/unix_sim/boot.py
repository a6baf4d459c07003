# boot.py of the unix_sim board, deployed to the simulated flash on first start.
import gc

gc.collect()
