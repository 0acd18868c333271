from watcher.services.startup import main

main()
