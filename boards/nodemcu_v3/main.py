# main.py: start the firmware. Deleting this file leaves the device at the REPL.
from nodefw import app

app.run()
