from clearhall.server.cli import main

main()
