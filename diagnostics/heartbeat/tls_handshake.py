"""Judge a TLS handshake on port 8250 from record headers and timing only; nothing is decrypted.

A TLS record starts with a content type (20 ChangeCipherSpec, 21 Alert, 22 Handshake, 23 ApplicationData)
and version major 3; a handshake record's sixth byte is the message type (1 ClientHello, 2 ServerHello).
TLS 1.3 encrypts everything after ServerHello as ApplicationData, including a fatal alert, so a
handshake counts as complete only after a full round trip beyond it: the agent sends application data,
the server answers, the agent sends again. A handshake that ends in an Alert, or whose connection closes
before that round trip, failed.
"""

from __future__ import annotations

from dataclasses import dataclass

CCS, ALERT, HANDSHAKE, APP_DATA = 20, 21, 22, 23
CLIENT_HELLO, SERVER_HELLO = 1, 2

# states
NOT_STARTED = "not_started"  # no payload yet
CLIENT_HELLO_SEEN = "client_hello"
SERVER_HELLO_SEEN = "server_hello"
COMPLETE = "complete"
FAILED = "failed"
NOT_SEEN = "not_seen"  # the first agent payload was not a ClientHello: midstream capture or not TLS
INCOMPLETE = "incomplete"  # the capture ended during the handshake
DECIDED = frozenset({COMPLETE, FAILED, NOT_SEEN, INCOMPLETE})


def record_type(head: bytes) -> int | None:
    """Content type of the TLS record that starts this payload, or None if it does not look like one."""
    if len(head) >= 3 and head[1] == 3 and head[0] in (CCS, ALERT, HANDSHAKE, APP_DATA):
        return head[0]
    return None


@dataclass(slots=True)
class TlsHandshake:
    state: str = NOT_STARTED
    started: float | None = None  # ClientHello time
    finished: float | None = None  # when it was judged complete or failed
    detail: str = ""
    _round_trip: int = 0  # 0: waiting for agent app data, 1: waiting for the server's answer, 2: for the agent again

    @property
    def decided(self) -> bool:
        return self.state in DECIDED

    def on_data(self, ts: float, from_agent: bool, head: bytes) -> None:
        """Feed the first bytes of one new (not retransmitted) data segment."""
        rtype = record_type(head)
        side = "agent" if from_agent else "server"
        if self.state == NOT_STARTED:
            if from_agent and rtype == HANDSHAKE and len(head) >= 6 and head[5] == CLIENT_HELLO:
                self.state, self.started = CLIENT_HELLO_SEEN, ts
            else:
                self.state = NOT_SEEN
                self.detail = "capture starts after the handshake" if rtype else "payload is not TLS"
            return
        if rtype == ALERT:
            self._fail(ts, f"TLS alert from the {side} {self._after(ts)}")
            return
        if self.state == CLIENT_HELLO_SEEN:
            if not from_agent and rtype == HANDSHAKE and len(head) >= 6 and head[5] == SERVER_HELLO:
                self.state = SERVER_HELLO_SEEN
            return
        if rtype != APP_DATA:
            return
        if from_agent and self._round_trip in (0, 2):
            if self._round_trip == 2:
                self.state, self.finished = COMPLETE, ts
                self.detail = f"application data both ways {self._after(ts)}"
            else:
                self._round_trip = 1
        elif not from_agent and self._round_trip == 1:
            self._round_trip = 2

    def on_close(self, ts: float, side: str, how: str) -> None:
        """The connection closed (FIN or RST) while the handshake was still running."""
        if self.state in (CLIENT_HELLO_SEEN, SERVER_HELLO_SEEN):
            stage = "before ServerHello" if self.state == CLIENT_HELLO_SEEN else "after ServerHello"
            self._fail(ts, f"{how} from the {side} {stage}, {self._after(ts)}")

    def on_capture_end(self) -> None:
        if self.state in (CLIENT_HELLO_SEEN, SERVER_HELLO_SEEN):
            self.state, self.detail = INCOMPLETE, "the capture ends during the handshake"
        elif self.state == NOT_STARTED:
            self.state, self.detail = NOT_SEEN, "no payload captured"

    def _fail(self, ts: float, detail: str) -> None:
        self.state, self.finished, self.detail = FAILED, ts, detail

    def _after(self, ts: float) -> str:
        return f"{ts - self.started:.3f} s after ClientHello" if self.started is not None else ""
