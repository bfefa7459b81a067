"""Pool map: square over 0..n-1 with a 4-process Pool (fork or spawn, as asked); prints the sum of the squares."""
import multiprocessing as mp
import sys


def square(x):
    return x * x


def main(n, method):
    with mp.get_context(method).Pool(4) as pool:
        squares = pool.map(square, range(n))
    print(sum(squares))


if __name__ == "__main__":
    # The start method: "fork" (Linux's default before Python 3.14) or "spawn".
    main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "fork")
