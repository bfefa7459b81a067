"""Process queue: a child process puts 0..n-1 on a multiprocessing.Queue, the parent sums them."""
import multiprocessing as mp
import sys

DONE = None


def produce(q, n):
    for i in range(n):
        q.put(i)
    q.put(DONE)


def main(n, method):
    ctx = mp.get_context(method)
    q = ctx.Queue()
    producer = ctx.Process(target=produce, args=(q, n))
    producer.start()
    total = 0
    while (item := q.get()) is not DONE:
        total += item
    producer.join()
    print(total)


if __name__ == "__main__":
    # The start method: "fork" (Linux's default before Python 3.14) or "spawn".
    main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "fork")
