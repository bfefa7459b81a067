"""Thread pool: ThreadPoolExecutor with at most four threads squares five numbers with map."""
from concurrent.futures import ThreadPoolExecutor


def square(x):
    return x * x


with ThreadPoolExecutor(max_workers=4) as pool:
    squares = list(pool.map(square, range(1, 6)))
print(squares)
