"""Lock counter: 4 threads each add 1 to a shared counter n times under threading.Lock."""
import sys
import threading

THREADS = 4


def main(n):
    counter = 0
    lock = threading.Lock()

    def work():
        nonlocal counter
        for _ in range(n):
            with lock:
                counter += 1

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(counter)


if __name__ == "__main__":
    main(int(sys.argv[1]))
