"""The purchase order e-mailed to its supplier, once per PO: the consumer of PurchaseOrderSubmitted
(functions/procurement_restock), whether a human submitted the PO or the automatic restock did.

Events arrive at least once, and the same PurchaseOrderSubmitted may be delivered twice at the same moment
(or published again by a repeated submit). One conditional write claims the PO's mail item (SENDING) before
SES is called: the one delivery that wins it sends; the others replay the record once it is SENT, or fail
with ServiceBusy while it is SENDING so EventBridge/Lambda retry them later. A send that fails gives its
claim back (the retry sends); a claim left SENDING by a sender that died is taken over after
``STALE_AFTER`` (far beyond the function's timeout), the one case that can mail twice: SES accepted the mail
and the sender died before recording it.

The supplier's address is checked against the suppression list the notifications context keeps (bounces and
complaints of every shop mail, shop.notifications.suppressions): a suppressed address is not mailed, the PO
shows the mail SUPPRESSED so a human calls the supplier instead. A PO cancelled before its mail went out is
not mailed. Kept out of shop.procurement.service so the admin API does not load the mail code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shop.config import get_settings
from shop.errors import ServiceBusy
from shop.inventory import repository as inventory
from shop.notifications import mailer, suppressions
from shop.procurement import documents
from shop.procurement import repository as repo
from shop.procurement.models import PoStatus, PurchaseOrder

STALE_AFTER = timedelta(minutes=15)
MAILED = frozenset({PoStatus.SUBMITTED, PoStatus.PARTIALLY_RECEIVED, PoStatus.RECEIVED, PoStatus.CLOSED})


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _replay(po_id: str, found: dict[str, Any]) -> dict[str, Any]:
    return {"sent": found["status"] == "SENT", "po_id": po_id, "to": found.get("to"), "status": found["status"],
            "replayed": True, "reason": found.get("reason")}


def deliver_to(po: PurchaseOrder) -> str:
    warehouse = inventory.get_warehouse(po.warehouse_id)
    return f"{warehouse.name} ({po.warehouse_id}, {warehouse.country})" if warehouse else po.warehouse_id


def mail_supplier(po_id: str) -> dict[str, Any]:
    """E-mail the submitted PO to its supplier unless it was already (see the module docstring)."""
    found = repo.get_mail(po_id)
    if found is not None and found["status"] != "SENDING":
        return _replay(po_id, found)
    po = repo.get_po(po_id)
    if po is None or po.status not in MAILED:
        status = po.status.value if po else "missing"
        return {"sent": False, "po_id": po_id, "reason": f"the purchase order is {status}: nothing to send"}
    supplier = repo.get_supplier(po.supplier_id)
    if supplier is None:
        return {"sent": False, "po_id": po_id, "reason": f"supplier {po.supplier_id} not found"}
    settings = get_settings()
    sender = settings.procurement_sender_email or settings.sender_email
    now = _now()
    claimed_at = _iso(now)
    if not repo.claim_mail(po_id, {"to": supplier.email, "sender": sender, "claimed_at": claimed_at},
                           _iso(now - STALE_AFTER)):
        again = repo.get_mail(po_id)
        if again is not None and again["status"] != "SENDING":
            return _replay(po_id, again)
        raise ServiceBusy(f"the mail of purchase order {po_id} is being sent by another invocation; retry later")
    if suppressions.is_suppressed(supplier.email):
        reason = "the supplier's address is on the suppression list (it bounced or complained): call them"
        repo.finish_mail(po_id, claimed_at, "SUPPRESSED", {"reason": reason})
        return {"sent": False, "po_id": po_id, "to": supplier.email, "status": "SUPPRESSED", "replayed": False,
                "reason": reason}
    mail = documents.po_email(po, supplier, sender=sender, deliver_to=deliver_to(po))
    try:
        message_id = mailer.send_raw(sender, mail.raw())  # to the supplier: the message's To header
    except Exception:
        repo.release_mail(po_id, claimed_at)
        raise
    repo.finish_mail(po_id, claimed_at, "SENT", {
        "message_id": message_id, "sent_at": _iso(_now()), "subject": mail.subject,
        "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size}
                        for a in mail.attachments]})
    return {"sent": True, "po_id": po_id, "to": supplier.email, "status": "SENT", "replayed": False}
