"""Async queue: a producer task puts 0..n-1 on an asyncio.Queue, a consumer task sums them."""
import asyncio
import sys

DONE = None


async def produce(q, n):
    for i in range(n):
        await q.put(i)
    await q.put(DONE)


async def consume(q):
    total = 0
    while (item := await q.get()) is not DONE:
        total += item
    return total


async def main(n):
    q = asyncio.Queue()
    _, total = await asyncio.gather(produce(q, n), consume(q))
    print(total)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
