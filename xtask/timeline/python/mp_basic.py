"""Processes: five multiprocessing.Process children, each printing its own pid; the parent
joins every one before its last line."""
import multiprocessing
import os


def report(number):
    print(f"Worker {number} is running in process {os.getpid()}")


def main():
    children = []
    for number in range(5):
        child = multiprocessing.Process(target=report, args=(number,))
        child.start()
        children.append(child)
    for child in children:
        child.join()
    print("All processes have finished.")


if __name__ == "__main__":
    main()
