from deconflict.cli import main

main()
