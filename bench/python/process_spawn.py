"""Process spawn + join: start n processes (fork or spawn, as asked), join them all; prints how many exited 0."""
import multiprocessing as mp
import sys


def child():
    pass


def main(n, method):
    ctx = mp.get_context(method)
    procs = [ctx.Process(target=child) for _ in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print(sum(p.exitcode == 0 for p in procs))


if __name__ == "__main__":
    # The start method: "fork" (Linux's default before Python 3.14) or "spawn".
    main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "fork")
