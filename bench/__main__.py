from __future__ import annotations

import asyncio
import importlib
import json
import sys

BENCHMARKS = ("updates", "delivery", "fanout", "surveys", "summary", "crashes", "floods")


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in BENCHMARKS:
        print(f"usage: python -m bench {{{'|'.join(BENCHMARKS)}}} [options]", file=sys.stderr)
        return 2
    module = importlib.import_module(f"bench.{sys.argv[1]}")
    result = asyncio.run(module.run(sys.argv[2:]))
    print(json.dumps(result))
    return 0


sys.exit(main())
