"""asyncio tasks: five tasks made with create_task each sleep one second, all at once on
one thread; gather waits for every one."""
import asyncio


async def work(number):
    print(f"Worker {number} is starting")
    await asyncio.sleep(1)
    print(f"Worker {number} is finished")


async def main():
    tasks = [asyncio.create_task(work(number)) for number in range(5)]
    await asyncio.gather(*tasks)


asyncio.run(main())
