from guardsh.cli.main import main

main()
