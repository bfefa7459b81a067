"""Process pool: Pool(4) squares five numbers with map, inside a with block."""
from multiprocessing import Pool


def square(x):
    return x * x


def main():
    with Pool(4) as pool:
        squares = pool.map(square, range(1, 6))
    print(squares)


if __name__ == "__main__":
    main()
