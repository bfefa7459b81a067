"""Thread queue: a producer and a consumer thread share a queue.Queue, started together;
the consumer takes items only while it finds the queue non-empty, so it may stop early."""
import queue
import threading


def produce(items):
    for n in range(5):
        items.put(n)
        print(f"Produced {n}")


def consume(items):
    while not items.empty():
        print(f"Consumed {items.get()}")


items = queue.Queue()
producer = threading.Thread(target=produce, args=(items,))
consumer = threading.Thread(target=consume, args=(items,))
for thread in (producer, consumer):
    thread.start()
for thread in (producer, consumer):
    thread.join()
