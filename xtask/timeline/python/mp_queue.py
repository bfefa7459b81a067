"""Process queue: a producer process puts five numbers on a multiprocessing.Queue and is
joined; then a consumer process takes items until it finds the queue empty."""
from multiprocessing import Process, Queue


def produce(items):
    for n in range(5):
        items.put(n)
        print(f"Produced {n}")


def consume(items):
    while not items.empty():
        print(f"Consumed {items.get()}")


def main():
    items = Queue()
    producer = Process(target=produce, args=(items,))
    consumer = Process(target=consume, args=(items,))
    producer.start()
    producer.join()
    consumer.start()
    consumer.join()


if __name__ == "__main__":
    main()
