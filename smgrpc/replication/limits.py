"""Size limits of the replication protocol, shared by the sender and the receiver.

One batch (or snapshot page) is at most MAX_BATCH_BYTES of encoded PushBatch, measured on the
real encoding before it is sent; the receiving server accepts messages of MAX_MESSAGE bytes
(the batch plus its envelope), so no batch a shipper builds is ever refused for its size.

8 MiB holds the largest secret AWS allows, alone in a batch: 100 labeled versions of 65,536
bytes (each sealed, 28 bytes more), each with 20 labels of 256 characters, plus the largest
description, tags and resource policy: about 7.2 MB encoded (tests/cluster/test_limits.py
checks it on the real encoding). A state larger than that (only possible with more than 100
labeled versions) is never shipped: the Region is marked Failed for that secret, and the
stream goes on.
"""

from __future__ import annotations

MAX_BATCH_BYTES = 8 * 1024 * 1024
ENVELOPE_OVERHEAD = 64 * 1024  # PushEnvelope framing (a few bytes), with a wide margin
MAX_MESSAGE = MAX_BATCH_BYTES + ENVELOPE_OVERHEAD
