"""One error type for every Dashboard failure, with a reason a person can act on."""

from __future__ import annotations

from enum import StrEnum

from knowledge.models import Lang


class Reason(StrEnum):
    KEY_INVALID = "key-invalid"
    NO_ACCESS = "no-access"
    NOT_FOUND = "not-found"
    BUSY = "busy"
    UNAVAILABLE = "unavailable"
    BAD_REQUEST = "bad-request"
    NO_ORGANIZATION = "no-organization"
    DEADLINE = "deadline"


_SENTENCES: dict[Reason, dict[Lang, str]] = {
    Reason.KEY_INVALID: {
        "en": "The Meraki Dashboard rejected the API key (401): check MERAKI_API_KEY.",
        "ja": "Meraki ダッシュボードが API キーを拒否しました (401)。MERAKI_API_KEY を確認してください。",
    },
    Reason.NO_ACCESS: {
        "en": "The API key has no access to this organisation (403): ask an organisation admin "
        "to grant read access.",
        "ja": "この API キーには組織へのアクセス権がありません (403)。"
        "組織の管理者に読み取り権限を依頼してください。",
    },
    Reason.NOT_FOUND: {
        "en": "The Dashboard does not know this organisation or network (404): check MERAKI_ORG_ID, "
        "or wait a minute if it was just created.",
        "ja": "ダッシュボードにこの組織またはネットワークが見つかりません (404)。MERAKI_ORG_ID を確認するか、"
        "作成直後なら 1 分ほど待ってください。",
    },
    Reason.BUSY: {
        "en": "The Meraki Dashboard is busy (rate limit reached, 429): try again in a minute.",
        "ja": "Meraki ダッシュボードが混雑しています (レート制限 429)。1 分後に再試行してください。",
    },
    Reason.DEADLINE: {
        "en": "The Meraki Dashboard is busy: it did not answer within the time a lookup may take "
        "(rate limits included), so I have nothing to show yet. Try again in a minute.",
        "ja": "Meraki ダッシュボードが混雑しています。1 回の確認に使える時間内（レート制限の待ち時間を含む）に"
        "応答がなかったため、まだ表示できる情報がありません。1 分後に再試行してください。",
    },
    Reason.UNAVAILABLE: {
        "en": "The Meraki Dashboard did not answer in time or returned a server error: try again shortly.",
        "ja": "Meraki ダッシュボードが時間内に応答しないか、サーバーエラーを返しました。"
        "しばらくして再試行してください。",
    },
    Reason.BAD_REQUEST: {
        "en": "The Meraki Dashboard refused the request as malformed (400).",
        "ja": "Meraki ダッシュボードがリクエストを不正として拒否しました (400)。",
    },
    Reason.NO_ORGANIZATION: {
        "en": "The API key sees several organisations (or none): set MERAKI_ORG_ID.",
        "ja": "API キーから見える組織が複数 (またはゼロ) です。MERAKI_ORG_ID を設定してください。",
    },
}


def reason_for_status(status: int) -> Reason:
    if status == 401:
        return Reason.KEY_INVALID
    if status == 403:
        return Reason.NO_ACCESS
    if status == 404:
        return Reason.NOT_FOUND
    if status == 429:
        return Reason.BUSY
    if status >= 500 or status == 0:
        return Reason.UNAVAILABLE
    return Reason.BAD_REQUEST


class DashboardError(Exception):
    """A Dashboard call that failed for good (after any retries).

    `status` is the HTTP status (0 when no response arrived at all), `errors` the
    strings from the `{"errors": [...]}` body, `request_id` Meraki's X-Request-Id.
    """

    def __init__(
        self,
        status: int,
        reason: Reason | None = None,
        *,
        errors: list[str] | None = None,
        path: str = "",
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.reason = reason or reason_for_status(status)
        self.errors = errors or []
        self.path = path
        self.request_id = request_id
        detail = "; ".join(self.errors)
        super().__init__(f"{status} {self.reason.value} {path}" + (f": {detail}" if detail else ""))

    def sentence(self, lang: Lang = "en") -> str:
        """What to tell the person who asked, in their language."""
        return _SENTENCES[self.reason][lang]
