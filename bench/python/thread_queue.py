"""Thread queue: one producer thread puts 0..n-1 on a queue.Queue, one consumer sums them."""
import queue
import sys
import threading

DONE = None


def main(n):
    q = queue.Queue()
    total = 0

    def produce():
        for i in range(n):
            q.put(i)
        q.put(DONE)

    def consume():
        nonlocal total
        while (item := q.get()) is not DONE:
            total += item

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(total)


if __name__ == "__main__":
    main(int(sys.argv[1]))
