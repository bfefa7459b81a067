"""Shared Value: 4 processes each add 1 to a multiprocessing.Value n times under get_lock()."""
import multiprocessing as mp
import sys

PROCESSES = 4


def work(value, n):
    for _ in range(n):
        with value.get_lock():
            value.value += 1


def main(n, method):
    ctx = mp.get_context(method)
    value = ctx.Value("q", 0)
    procs = [ctx.Process(target=work, args=(value, n)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print(value.value)


if __name__ == "__main__":
    # The start method: "fork" (Linux's default before Python 3.14) or "spawn".
    main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "fork")
