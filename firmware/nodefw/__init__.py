# Firmware for the HomeCA / P3 NodeMCU device. Board specifics live in the
# `board` module of the board in use (boards/<name>/board.py), never here.
VERSION = "0.1.0"
