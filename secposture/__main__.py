from secposture.cli import main

main()
