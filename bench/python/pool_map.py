"""Pool map: square over 0..n-1 with a 4-process Pool (fork); prints the sum of the squares."""
import multiprocessing as mp
import sys


def square(x):
    return x * x


def main(n):
    with mp.get_context("fork").Pool(4) as pool:
        squares = pool.map(square, range(n))
    print(sum(squares))


if __name__ == "__main__":
    main(int(sys.argv[1]))
