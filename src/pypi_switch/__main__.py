from pypi_switch.cli import main

main()
