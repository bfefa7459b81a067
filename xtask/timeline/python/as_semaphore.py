"""asyncio semaphore: five tasks, at most two inside `async with Semaphore(2)` at a time,
each sleeping one second there."""
import asyncio


async def work(limit, number):
    async with limit:
        print(f"Worker {number} is starting")
        await asyncio.sleep(1)
        print(f"Worker {number} is finished")


async def main():
    limit = asyncio.Semaphore(2)
    await asyncio.gather(*(asyncio.create_task(work(limit, n)) for n in range(5)))


asyncio.run(main())
