"""Process queue: a child process puts 0..n-1 on a multiprocessing.Queue, the parent sums them."""
import multiprocessing as mp
import sys

DONE = None


def produce(q, n):
    for i in range(n):
        q.put(i)
    q.put(DONE)


def main(n):
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    producer = ctx.Process(target=produce, args=(q, n))
    producer.start()
    total = 0
    while (item := q.get()) is not DONE:
        total += item
    producer.join()
    print(total)


if __name__ == "__main__":
    main(int(sys.argv[1]))
