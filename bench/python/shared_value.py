"""Shared Value: 4 processes each add 1 to a multiprocessing.Value n times under get_lock()."""
import multiprocessing as mp
import sys

PROCESSES = 4


def work(value, n):
    for _ in range(n):
        with value.get_lock():
            value.value += 1


def main(n):
    ctx = mp.get_context("fork")
    value = ctx.Value("q", 0)
    procs = [ctx.Process(target=work, args=(value, n)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print(value.value)


if __name__ == "__main__":
    main(int(sys.argv[1]))
