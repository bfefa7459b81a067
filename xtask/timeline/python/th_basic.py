"""Threads: five threading.Thread workers, each printing one line; the main thread joins
them all before its own."""
import threading


def report(number):
    print(f"Worker {number} is running")


workers = []
for number in range(5):
    worker = threading.Thread(target=report, args=(number,))
    worker.start()
    workers.append(worker)
for worker in workers:
    worker.join()
print("All threads have finished.")
