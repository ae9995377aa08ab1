"""An independent SplitMix64 + Fisher-Yates, as docs/playlist.md describes
setup's shuffle: the tests' own reading of it, not setup's code."""

MASK = (1 << 64) - 1


def shuffle(items, seed):
    v, s = list(items), seed

    def nxt():
        nonlocal s
        s = (s + 0x9E3779B97F4A7C15) & MASK
        z = s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    for i in range(len(v), 1, -1):
        # Draws below this would favour small j: thrown away, as setup does.
        floor = ((1 << 64) - i) % i
        while True:
            r = nxt()
            if r >= floor:
                break
        j = r % i
        v[i - 1], v[j] = v[j], v[i - 1]
    return v
