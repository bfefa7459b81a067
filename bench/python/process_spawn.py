"""Process spawn + join: start n processes (fork), join them all; prints how many exited 0."""
import multiprocessing as mp
import sys


def child():
    pass


def main(n):
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=child) for _ in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print(sum(p.exitcode == 0 for p in procs))


if __name__ == "__main__":
    main(int(sys.argv[1]))
