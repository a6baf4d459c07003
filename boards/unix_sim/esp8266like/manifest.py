# asyncio is frozen into the ESP8266 firmware
# (ports/esp8266/boards/ESP8266_GENERIC/manifest_2MiB.py), so its code lives in
# flash there, not on the heap: freeze it here too.
include("$(MPY_DIR)/extmod/asyncio")
