"""Virtual users: asyncio tasks that drive the load app over HTTP with httpx.

Each loops until the deadline: log in, call the protected route, refresh,
call it again, log out (every third time, refreshing at the same moment).
Every fourth user instead races two or three refreshes of one refresh token
at once, and every fourth replays a refresh token it has spent: both must
set off reuse detection, which revokes the login. Probers meanwhile
present revoked tokens, each on a new connection, so that any worker may
answer. After the deadline, :meth:`Load.final_checks` presents every revoked
token, then every spent refresh token, once more.

Every answer, and what it proves, goes to a
:class:`~benchmarks.load_ledger.Ledger`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import random
import sys
import time
import typing as t
from collections.abc import Awaitable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field

import httpx

from .load_app import PROTECTED_PATH
from .load_app import User
from .load_app import USERS
from .load_app import WORKER_HEADER
from .load_ledger import Ledger

AUTH_PATH = "/auth"
REFRESH_PATH = "/auth/refresh"
REVOKE_PATH = "/auth/revoke"
#: Protected requests after the login, and again after the refresh.
PROTECTED_CALLS = 4
#: What each virtual user does instead of a plain refresh, by its index.
ROLES = ("race", "plain", "replay", "plain")
#: Every this many logouts, a plain user refreshes as it logs out.
LOGOUT_RACE_EVERY = 3
#: A prober per this many virtual users (at least one).
USERS_PER_PROBER = 8
#: Requests in flight at once during the final checks.
FINAL_CONCURRENCY = 16
#: Seconds before a request counts as unanswered.
REQUEST_TIMEOUT = 10.0

# httpcore 1.0 imports sniffio, an optional module, for every lock it makes;
# anyio 4.11 and later no longer install it, and a failed import searches
# sys.path every time: a third of this client's CPU (encode/httpcore#1103).
# None in sys.modules makes that import fail at once.
if importlib.util.find_spec("sniffio") is None:
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Pair:
    """An access token and the refresh token issued with it."""

    access: str
    refresh: str


@dataclass(frozen=True)
class Revoked:
    """A token the server must refuse from now on, and why."""

    kind: t.Literal["access", "refresh"]
    token: str
    cause: str


@dataclass
class Login:
    """One login of one virtual user: its current pair, and every access
    token it was issued, which a revocation of the login refuses too."""

    user: User
    pair: Pair
    accesses: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.accesses.append(self.pair.access)

    def advance(self, pair: Pair) -> None:
        self.pair = pair
        self.accesses.append(pair.access)


def pair_of(response: httpx.Response) -> Pair:
    data = response.json()
    return Pair(data["access_token"], data["refresh_token"])


class Load:
    """The virtual users and probers of one run, against ``base_url``.

    Use as an async context manager, which closes the clients.

    :param transport: what the clients send with, instead of connecting
        to ``base_url``: a fake server, in tests.
    """

    def __init__(
        self,
        base_url: str,
        ledger: Ledger,
        seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.ledger = ledger
        self.seconds = seconds
        self.deadline = 0.0
        # Keeps connections alive where the server does; the probers' client
        # opens a new one per request.
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=REQUEST_TIMEOUT,
            limits=httpx.Limits(max_connections=None),
            transport=transport,
        )
        self.fresh = httpx.AsyncClient(
            base_url=base_url,
            timeout=REQUEST_TIMEOUT,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=0),
            transport=transport,
        )
        #: Every token revoked so far, by logout or by reuse detection.
        self.revoked: list[Revoked] = []
        #: Every refresh token rotated away by a successful refresh.
        self.spent: list[str] = []
        self.random = random.Random(0)

    async def __aenter__(self) -> Load:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.client.aclose()
        await self.fresh.aclose()

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    def stop(self) -> None:
        self.deadline = 0.0

    async def run(self, users: int) -> None:
        """Run ``users`` virtual users and their probers until the deadline.

        :raises Exception: the first a task raised (which stops the others).
        """
        self.deadline = time.monotonic() + self.seconds
        probers = max(1, users // USERS_PER_PROBER)
        tasks = [self._guarded(self.user(index)) for index in range(users)]
        tasks += [self._guarded(self.prober()) for _ in range(probers)]
        await _gather_raising(tasks)

    async def _guarded(self, work: Awaitable[None]) -> None:
        try:
            await work
        except BaseException:
            self.stop()  # a bug in the client: end the run, then report it
            raise

    # -- requests ------------------------------------------------------------

    async def send(
        self,
        op: str,
        method: str,
        path: str,
        *,
        access: str | None = None,
        body: dict[str, str] | None = None,
        fresh: bool = False,
        detail: str = "",
    ) -> httpx.Response | None:
        """One request, recorded in the ledger as ``op``; ``None`` if no
        answer came."""
        headers = None if access is None else {"Authorization": f"JWT {access}"}
        client = self.fresh if fresh else self.client
        start = time.perf_counter()
        try:
            response = await client.request(method, path, headers=headers, json=body)
        except httpx.TransportError as exc:
            elapsed = time.perf_counter() - start
            self.ledger.answer(op, None, elapsed, f"{detail} ({exc!r})")
            return None
        elapsed = time.perf_counter() - start
        worker = response.headers.get(WORKER_HEADER)
        self.ledger.answer(op, response.status_code, elapsed, detail, worker)
        return response

    def refresh_request(
        self, op: str, token: str, fresh: bool = False, detail: str = ""
    ) -> Awaitable[httpx.Response | None]:
        body = {"refresh_token": token}
        return self.send(
            op, "POST", REFRESH_PATH, body=body, fresh=fresh, detail=detail
        )

    # -- a virtual user ------------------------------------------------------

    async def user(self, index: int) -> None:
        """Log in, use, refresh (or race, or replay), use, log out; again."""
        user = USERS[index % len(USERS)]
        role = ROLES[index % len(ROLES)]
        # Counts from the index, so that users vary from their first turn.
        turn = index
        while self.running():
            await self.session(user, role, turn)
            turn += 1

    async def session(self, user: User, role: str, turn: int) -> None:
        login = await self.login(user)
        if login is None or not await self.use(login):
            return
        if role == "race":
            if not await self.race(login, racers=2 + turn % 2):
                return
        else:
            spent = login.pair.refresh
            if not await self.refresh(login):
                return
            if role == "replay":
                await self.replay(login, spent)
                return
        if not await self.use(login):
            return
        if turn % LOGOUT_RACE_EVERY == 0:
            await self.logout_racing_refresh(login)
        else:
            await self.logout(login)

    async def login(self, user: User) -> Login | None:
        if not self.running():
            return None
        credentials = {"username": user.username, "password": user.password}
        response = await self.send("login", "POST", AUTH_PATH, body=credentials)
        if response is None or not self.ledger.expect(
            "live_accepted", response.status_code, 200, f"login as {user.username}"
        ):
            return None
        return Login(user, pair_of(response))

    async def use(self, login: Login) -> bool:
        """Call the protected route with the login's live access token."""
        for _ in range(PROTECTED_CALLS):
            if not self.running():
                return False
            response = await self.send(
                "protected", "GET", PROTECTED_PATH, access=login.pair.access
            )
            if response is None or response.status_code >= 500:
                return False
            answer = (response.status_code, response.text)
            if not self.ledger.check(
                "live_accepted",
                answer == (200, login.user.username),
                f"{login.user.username}'s live access token:"
                f" {answer[0]} {answer[1][:100]!r}",
            ):
                return False
        return True

    async def refresh(self, login: Login) -> bool:
        if not self.running():
            return False
        presented = login.pair.refresh
        response = await self.refresh_request("refresh", presented)
        if response is None or not self.ledger.expect(
            "live_accepted", response.status_code, 200, "a live refresh token"
        ):
            return False
        self.spent.append(presented)
        login.advance(pair_of(response))
        return True

    async def race(self, login: Login, racers: int) -> bool:
        """Refresh one token ``racers`` times at once: one wins, the others
        present a spent token, which revokes the login. Then try the
        winner's refresh token: it must be refused, unless no loser got as
        far as spending (then the login goes on with the next pair).

        :return: whether the login goes on.
        """
        if not self.running():
            return False
        presented = login.pair.refresh
        detail = f"{racers} at once"
        responses = await asyncio.gather(
            *(
                self.refresh_request("race", presented, detail=detail)
                for _ in range(racers)
            )
        )
        self.ledger.count(f"refresh races of {racers}")
        statuses = [None if r is None else r.status_code for r in responses]
        if any(status is None or status >= 500 for status in statuses):
            return False
        answered = {r.headers.get(WORKER_HEADER) for r in responses if r is not None}
        if len(answered) > 1:
            self.ledger.count("refresh races answered by several workers")
        winners = [r for r in responses if r is not None and r.status_code == 200]
        self.spent.append(presented)
        self.ledger.check(
            "one_winner",
            len(winners) <= 1 and set(statuses) <= {200, 401},
            f"{racers} refreshes of one token at once answered {statuses}",
        )
        # The first rotation of a current token always succeeds.
        if not self.ledger.check(
            "live_accepted",
            bool(winners),
            f"{racers} refreshes of a live token at once were all refused",
        ):
            return False
        successors = [pair_of(r) for r in winners]
        for successor in successors:
            login.advance(successor)
        usable = []
        for successor in successors:
            response = await self.refresh_request(
                "race", successor.refresh, detail="the winner's successor"
            )
            if response is None or response.status_code >= 500:
                return False
            status = response.status_code
            self.ledger.check(
                "one_successor",
                status in (200, 401),
                f"the successor of a race's winner answered {status}",
            )
            if status == 200:
                self.spent.append(successor.refresh)
                usable.append(pair_of(response))
        if not self.ledger.check(
            "one_successor",
            len(usable) <= 1,
            f"{len(usable)} successors of one refresh token still refresh",
        ):
            return False
        if usable:
            # No loser spent the token: the login is not revoked.
            self.ledger.count("race successors still usable")
            login.advance(usable[0])
            return True
        self.ledger.count("logins revoked by reuse detection (races)")
        await self.revoke_login(login, "reuse detection")
        return False

    async def replay(self, login: Login, spent: str) -> None:
        """Present a refresh token spent by the login's last refresh: it
        must be refused, and the login revoked."""
        if not self.running():
            return
        response = await self.refresh_request("replay", spent)
        if response is None or not self.ledger.expect(
            "spent_refused",
            response.status_code,
            401,
            "a spent refresh token, replayed",
        ):
            return
        self.ledger.count("logins revoked by reuse detection (replays)")
        await self.revoke_login(login, "reuse detection")

    async def logout(self, login: Login) -> None:
        if not self.running():
            return
        pair = login.pair
        response = await self.send(
            "logout",
            "POST",
            REVOKE_PATH,
            access=pair.access,
            body={"refresh_token": pair.refresh},
        )
        if response is None or not self.ledger.expect(
            "live_accepted", response.status_code, 204, "logout"
        ):
            return
        self.ledger.count("logouts answered 204")
        await self.revoke_login(login, "logout")

    async def logout_racing_refresh(self, login: Login) -> None:
        """Log out and refresh at once. The refresh may win (200) or lose
        (401), but a pair it issues belongs to the login, which the logout
        revokes: it must be refused like the rest."""
        if not self.running():
            return
        pair = login.pair
        logout, refresh = await asyncio.gather(
            self.send(
                "logout",
                "POST",
                REVOKE_PATH,
                access=pair.access,
                body={"refresh_token": pair.refresh},
                detail="racing a refresh",
            ),
            self.refresh_request("refresh", pair.refresh, detail="racing a logout"),
        )
        self.ledger.count("logouts racing a refresh")
        if refresh is not None and refresh.status_code < 500:
            status = refresh.status_code
            self.ledger.check(
                "live_accepted",
                status in (200, 401),
                f"a refresh racing a logout: {status}, expected 200 or 401",
            )
            if status == 200:
                self.ledger.count("refreshes that beat a logout")
                self.spent.append(pair.refresh)
                login.advance(pair_of(refresh))
        if logout is None or not self.ledger.expect(
            "live_accepted", logout.status_code, 204, "logout racing a refresh"
        ):
            return
        self.ledger.count("logouts answered 204")
        await self.revoke_login(login, "logout racing a refresh")

    async def revoke_login(self, login: Login, cause: str) -> None:
        """Record the login's tokens as revoked, and present its current
        access token at once, as a client would after logging out."""
        revoked = [Revoked("access", access, cause) for access in login.accesses]
        revoked.append(Revoked("refresh", login.pair.refresh, cause))
        self.revoked.extend(revoked)
        await self.probe(Revoked("access", login.pair.access, cause))

    # -- probes ----------------------------------------------------------------

    async def probe(
        self, revoked: Revoked, op: str = "probe", invariant: str = "revoked_refused"
    ) -> None:
        """Present a revoked token on a new connection; it must get 401."""
        detail = f"revoked {revoked.kind} token ({revoked.cause})"
        if revoked.kind == "access":
            response = await self.send(
                op,
                "GET",
                PROTECTED_PATH,
                access=revoked.token,
                fresh=True,
                detail=detail,
            )
        else:
            response = await self.refresh_request(
                op, revoked.token, fresh=True, detail=detail
            )
        status = None if response is None else response.status_code
        self.ledger.expect(invariant, status, 401, detail)

    async def prober(self) -> None:
        while self.running():
            if not self.revoked:
                await asyncio.sleep(0.01)
                continue
            await self.probe(self.random.choice(self.revoked))

    async def final_checks(self) -> None:
        """Present every revoked token once more, then every spent refresh
        token (last: presenting one revokes its login)."""
        limit = asyncio.Semaphore(FINAL_CONCURRENCY)

        async def limited(work: Awaitable[None]) -> None:
            async with limit:
                await work

        await _gather_raising(
            limited(self.probe(revoked, "final", "no_lost_revocation"))
            for revoked in self.revoked
        )
        await _gather_raising(
            limited(self.present_spent(token)) for token in self.spent
        )

    async def present_spent(self, token: str) -> None:
        response = await self.refresh_request(
            "final", token, fresh=True, detail="spent refresh token"
        )
        status = None if response is None else response.status_code
        self.ledger.expect("spent_refused", status, 401, "a spent refresh token")


async def _gather_raising(work: Iterable[Awaitable[None]]) -> None:
    """Await all of ``work``, then raise the first exception, if any."""
    results = await asyncio.gather(*work, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
