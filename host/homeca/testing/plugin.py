"""pytest plugin: the dut fixture (filled in below)."""
