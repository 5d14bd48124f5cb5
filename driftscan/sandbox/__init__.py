"""The local sandbox estate for demos and tests: moto, the ARM emulator, SSH fixture hosts."""
