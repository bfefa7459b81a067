"""Async tasks: n coroutines each yield to the event loop once, gathered; prints their sum."""
import asyncio
import sys


async def task(i):
    await asyncio.sleep(0)
    return i


async def main(n):
    results = await asyncio.gather(*(task(i) for i in range(n)))
    print(sum(results))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
