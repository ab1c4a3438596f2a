"""The penalty ledger (罚款台账) of the sales floor: every fine R6 names, as an amount the tenant
configures (``fine_<rule>_cny``; 0 waives the rule), recorded for one person with its reason and
what caused it. The ledger records; it never deducts pay (payroll reads it). A fine recorded by
mistake is cancelled with a reason, never deleted.

Software records the fines of rules it can see (a missed same-day SMS, a late key, late delivery
data, a late return of lent data, …) through :func:`add_penalty`, once per cause (``source_key``);
the sales manager records those a person judges (quarrels, dress, a forged log) with
:func:`record_penalty`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import Integer, Text, Timestamptz, Varchar

from core.plugins import (
    KehuError,
    Parameter,
    ParameterKind,
    Scope,
    TenantTable,
    emit,
    fetch_page,
    record,
    require_permission,
    tenant_parameters,
    tenant_user,
    tenant_table_migration,
    unit_of_work,
)
from plugins.automotive import clock
from plugins.automotive.common import VERTICAL, invalid, text


@dataclass(frozen=True)
class PenaltyRule:
    code: str  # the rule of seed-003 R6 (R6-51D)
    default_cny: int
    en: str
    zh: str
    per: str = "time"  # what one unit is: time | card | day | person | set | info

    @property
    def parameter(self) -> str:
        return "fine_" + self.code.lower().replace("-", "_") + "_cny"


# Fines of R6 with a fixed amount. R6-39 (10 times the gift's value) and R6-48 (50% of a damage) are
# amounts a person states when recording them.
RULES = (
    PenaltyRule("R6-9", 20, "a duplicate card caused by a missed follow-up", "因未回访造成重卡", "card"),
    PenaltyRule("R6-12", 20, "a lead card destroyed instead of revoked", "私自销毁三表卡", "card"),
    PenaltyRule("R6-14", 20, "no same-day first SMS to a walk-in or call-in lead", "来电来店留电客户未当天短信回访"),
    PenaltyRule("R6-17", 20, "a customer's source not asked or not matching", "客户来源未询问或不符", "person"),
    PenaltyRule("R6-17S", 100, "consultants swapped customers", "销售顾问之间调换客户"),
    PenaltyRule("R6-21", 50, "a car promised for release before the loan was disbursed", "贷款未放款前承诺客户提车"),
    PenaltyRule("R6-24", 0, "a decoration order or requisition without its signatures (the consultant pays the goods)",
                "装饰单、领料单无有效签字（由销售顾问承担）"),
    PenaltyRule("R6-26", 50, "same-day delivery data handed to the assistant after 20 minutes",
                "当天交车客户资料20分钟内未交销售助理"),
    PenaltyRule("R6-31", 100, "a consultant not evaluated on the showroom 8 steps", "未对销售顾问进行展厅八步骤评估", "person"),
    PenaltyRule("R6-32", 50, "a fake or inconsistent sales log", "销售日志虚假或不符"),
    PenaltyRule("R6-33", 50, "a report filled in wrongly or forged", "报表填写错误或造假"),
    PenaltyRule("R6-35", 20, "a price quoted by phone or a sold price revealed", "电话报价或泄露成交价格"),
    PenaltyRule("R6-36", 20, "the phone not answered with the standard greeting", "未按标准用语接听电话"),
    PenaltyRule("R6-40", 20, "a big-account daily minimum missed", "大客户专员每日拜访量未完成"),
    PenaltyRule("R6-41", 50, "a big-account specialist not out by 9:00 or back for roll call", "大客户专员未按时外出或返回点名"),
    PenaltyRule("R6-42", 50, "a roadshow rule broken (count, photos, approvals)", "巡展未按规定执行"),
    PenaltyRule("R6-43", 20, "a customer info short at a roadshow", "巡展收集客户信息不足", "info"),
    PenaltyRule("R6-46", 50, "an inventory report late or missed", "库存报告迟报或漏报"),
    PenaltyRule("R6-47", 50, "a key lost (plus its replacement)", "遗失钥匙（另赔偿配钥匙费用）"),
    PenaltyRule("R6-50", 100, "a car used for something other than an approved cash run", "车辆挪作他用"),
    PenaltyRule("R6-51A", 20, "a test drive without the key-use register filled in", "试驾未填写钥匙领用登记"),
    PenaltyRule("R6-51C", 20, "a test drive's paperwork incomplete", "试驾协议、驾照复印件、确认书、调查报告不全", "set"),
    PenaltyRule("R6-51D", 10, "a test-drive key back more than 5 minutes after the drive", "试驾结束5分钟内未归还钥匙"),
    PenaltyRule("R6-51E", 20, "a window left open", "车窗未关"),
    PenaltyRule("R6-54", 50, "a second-tier store car over 30 days not recalled, per day late", "二级店超期车辆未召回，每迟一天",
                "day"),
    PenaltyRule("R6-56", 50, "tools or a warranty book lost", "工具、质保书遗失", "set"),
    PenaltyRule("R6-57", 20, "the in-transit and in-stock board not up to date", "在途及库存看板未及时更新"),
    PenaltyRule("R6-58", 50, "customers taken to the main warehouse to choose a car", "带客户到大库选车"),
    PenaltyRule("R6-59", 50, "fewer than 2 people on front-desk duty", "前台值班少于2人"),
    PenaltyRule("R6-62", 10, "lent customer data returned late", "借用客户资料逾期归还"),
    PenaltyRule("R6-63", 50, "lent customer data lost or damaged", "借用客户资料遗失或损坏"),
    PenaltyRule("R6-64", 50, "a gift not registered with the market specialist", "礼品未在市场专员处登记"),
    PenaltyRule("R6-65", 10, "a promotion problem (consultant; the team leader 50)", "促销活动出现问题（销售顾问；组长50元）"),
    PenaltyRule("R6-66", 100, "an unreported newspaper-insert problem causing a loss", "夹报问题未上报造成损失", "person"),
    PenaltyRule("R6-67", 100, "the market specialist's computer used by others", "非市场人员使用市场专员电脑"),
    PenaltyRule("R6-68", 50, "an advertising plan not announced in advance", "广告计划、促销活动未提前告知"),
)
# Rules whose amount a person states (no fixed amount in R6).
STATED = {"R6-39": ("a gift that did not reach the customer (10 times its value)", "礼品未送达客户（礼品价值的10倍）"),
          "R6-45": ("an unrecovered transport-damage claim", "运输质损索赔未追回"),
          "R6-48": ("damage during a vehicle transfer (50% of it)", "调车过程中造成损失（损失的50%）"),
          "R6-49": ("damage to a test or stock car used without approval", "未经批准使用试驾车、商品车造成损失")}
BY_CODE = {rule.code: rule for rule in RULES}
MAX_AMOUNT = 100_000

PARAMETERS = tuple(
    Parameter(rule.parameter, ParameterKind.INTEGER, rule.default_cny, f"Fine per {rule.per}: {rule.en} ({rule.code})",
              f"罚款金额：{rule.zh}（{rule.code}）", minimum=0, maximum=10_000, unit="CNY")
    for rule in RULES)

PERMISSIONS = ()  # roles.PERMISSIONS holds automotive.penalty.record and automotive.penalty.read


class Penalty(TenantTable, tablename="automotive_penalty"):
    user_id = UUIDColumn()
    rule = Varchar(length=16)
    amount_cny = Integer()
    quantity = Integer(default=1)
    reason = Text()
    source_key = Varchar(length=120, null=True, default=None)  # what caused it, once per cause
    at = Timestamptz()
    recorded_by = Varchar(length=100)
    cancelled_at = Timestamptz(null=True, default=None)
    cancelled_by = Varchar(length=100, null=True, default=None)
    cancel_reason = Text(null=True, default=None)


TABLES = (Penalty,)
_WHO = "VARCHAR(100)"
MIGRATIONS = (
    tenant_table_migration(1, "the sales floor's penalty ledger", "automotive_penalty", [
        "user_id UUID NOT NULL", "rule VARCHAR(16) NOT NULL", "amount_cny INTEGER NOT NULL",
        "quantity INTEGER NOT NULL DEFAULT 1", "reason TEXT NOT NULL", "source_key VARCHAR(120)",
        "at TIMESTAMPTZ NOT NULL", f"recorded_by {_WHO} NOT NULL", "cancelled_at TIMESTAMPTZ", f"cancelled_by {_WHO}",
        "cancel_reason TEXT",
    ], unique=(("rule", "source_key", "user_id"),), indexes=(("at",), ("user_id", "at"))),
)


def amount_of(rule: str, parameters: Mapping[str, Any], quantity: int = 1) -> int:
    """The fine of ``quantity`` units of ``rule`` at the tenant's amount."""
    return int(parameters.get(BY_CODE[rule].parameter, BY_CODE[rule].default_cny)) * quantity


async def add_penalty(uow: Any, parameters: Mapping[str, Any], rule: str, user_id: UUID | None, *, reason: str,
                      at: datetime, source_key: str | None = None, quantity: int = 1, actor: str = "system") -> bool:
    """Record the fine of ``rule`` for ``user_id`` in the caller's unit of work, once per
    ``source_key``; nothing when nobody is named or the tenant waives the rule (amount 0). True when
    a fine was recorded."""
    amount = amount_of(rule, parameters, quantity)
    return await add_stated_penalty(uow, rule, user_id, amount, reason=reason, at=at, source_key=source_key,
                                    quantity=quantity, actor=actor)


async def add_stated_penalty(uow: Any, rule: str, user_id: UUID | None, amount_cny: int, *, reason: str, at: datetime,
                             source_key: str | None, quantity: int = 1, actor: str = "system") -> bool:
    """Record a fine of ``amount_cny`` (a tenant's amount, or one the rule states from a fact: R6-39, ten
    times a gift's value) in the caller's unit of work, once per ``source_key``; nothing when nobody is
    named or the amount is 0."""
    if user_id is None or amount_cny <= 0:
        return False
    if source_key is not None and await uow.exists(Penalty).where(
            (Penalty.rule == rule) & (Penalty.source_key == source_key) & (Penalty.user_id == user_id)):
        return False
    penalty_id = uuid4()
    await uow.insert(Penalty(id=penalty_id, user_id=user_id, rule=rule, amount_cny=min(amount_cny, MAX_AMOUNT * 10),
                             quantity=quantity, reason=reason[:2000], source_key=source_key, at=at, recorded_by=actor))
    await record(uow, "automotive.penalty_recorded", "automotive_penalty", penalty_id,
                 {"user_id": user_id, "rule": rule, "amount_cny": amount_cny, "source": source_key})
    await emit(uow, "automotive.penalty_recorded", "automotive_penalty", penalty_id, ("user_id", "rule", "amount_cny"))
    return True


async def record_penalty(ctx: Any, user_id: UUID, rule: str, *, reason: str, quantity: int = 1,
                         amount_cny: int | None = None) -> dict[str, Any]:
    """The sales manager records a fine a person judged: a rule of the catalogue at the tenant's
    amount times ``quantity``, or a rule of ``STATED`` with its stated amount (R6-39, R6-45, R6-48,
    R6-49). Never for oneself."""
    require_permission(ctx, "automotive.penalty.record")
    reason = text(reason, "reason", 2000)
    if rule not in BY_CODE and rule not in STATED:
        raise invalid("rule", f"{rule} is not a fine of R6", f"{rule} 不是销售部制度规定的罚款项")
    if not isinstance(quantity, int) or not 1 <= quantity <= 100:
        raise invalid("quantity", "quantity is 1 to 100", "数量须为 1 至 100")
    if user_id == ctx.user_id:
        raise KehuError("AUTOMOTIVE_SELF_PENALTY", "nobody records their own fine", "不能为自己登记罚款", field="userId")
    parameters = await tenant_parameters(ctx, VERTICAL)
    if rule in STATED:
        if amount_cny is None or not 1 <= amount_cny <= MAX_AMOUNT:
            raise invalid("amountCny", f"state the amount of a {rule} fine (1 to {MAX_AMOUNT})",
                          f"{rule} 须填写罚款金额（1 至 {MAX_AMOUNT}）")
        amount = amount_cny
    else:
        if amount_cny is not None:
            raise invalid("amountCny", f"the amount of {rule} is the tenant's parameter", f"{rule} 的金额由参数规定")
        amount = amount_of(rule, parameters, quantity)
        if amount <= 0:
            raise KehuError("AUTOMOTIVE_FINE_WAIVED", f"the tenant waives {rule} (amount 0)", f"本单位未对 {rule} 罚款（金额为0）",
                            field="rule")
    async with unit_of_work(ctx) as uow:
        if not await tenant_user(uow, user_id):
            raise invalid("userId", "no such user in this tenant", "本租户没有该用户")
        penalty_id = uuid4()
        at = clock.now()
        await uow.insert(Penalty(id=penalty_id, user_id=user_id, rule=rule, amount_cny=amount, quantity=quantity,
                                 reason=reason, at=at, recorded_by=ctx.actor))
        await record(uow, "automotive.penalty_recorded", "automotive_penalty", penalty_id,
                     {"user_id": user_id, "rule": rule, "amount_cny": amount})
        await emit(uow, "automotive.penalty_recorded", "automotive_penalty", penalty_id, ("user_id", "rule", "amount_cny"))
        return await uow.select(Penalty).where(Penalty.id == penalty_id).first()


async def cancel_penalty(ctx: Any, penalty_id: UUID, *, reason: str) -> dict[str, Any]:
    """Cancel a fine recorded by mistake, with the reason; the entry stays in the ledger."""
    require_permission(ctx, "automotive.penalty.record")
    reason = text(reason, "reason", 2000)
    async with unit_of_work(ctx) as uow:
        row = await uow.select(Penalty).where(Penalty.id == penalty_id).first()
        if row is None:
            raise KehuError("AUTOMOTIVE_PENALTY_NOT_FOUND", f"no fine {penalty_id}", f"未找到罚款记录 {penalty_id}", field="id")
        if row["user_id"] == ctx.user_id:
            raise KehuError("AUTOMOTIVE_SELF_PENALTY", "nobody cancels their own fine", "不能撤销自己的罚款", field="id")
        done = await uow.update(Penalty, {Penalty.cancelled_at: clock.now(), Penalty.cancelled_by: ctx.actor,
                                          Penalty.cancel_reason: reason}).where(
            (Penalty.id == penalty_id) & Penalty.cancelled_at.is_null()).returning(Penalty.id)
        if not done:
            raise KehuError("AUTOMOTIVE_PENALTY_CANCELLED", "this fine is already cancelled", "该罚款已撤销", field="id")
        await record(uow, "automotive.penalty_cancelled", "automotive_penalty", penalty_id, {"reason": reason})
        await emit(uow, "automotive.penalty_cancelled", "automotive_penalty", penalty_id, ("cancelled_at",))
        return await uow.select(Penalty).where(Penalty.id == penalty_id).first()


async def penalties(ctx: Any, window: Any, *, user_id: UUID | None = None, rule: str | None = None,
                    since: datetime | None = None, until: datetime | None = None) -> tuple[list[dict], bool]:
    """The ledger, newest first: everyone's with ``automotive.penalty.read``, else one's own."""
    try:
        everyone = require_permission(ctx, "automotive.penalty.read") is Scope.TENANT
    except KehuError:
        if ctx.user_id is None:
            raise
        everyone = False
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(Penalty)
        if not everyone:
            query = query.where(Penalty.user_id == ctx.user_id)
        if user_id is not None:
            query = query.where(Penalty.user_id == user_id)
        if rule is not None:
            query = query.where(Penalty.rule == rule)
        if since is not None:
            query = query.where(Penalty.at >= since)
        if until is not None:
            query = query.where(Penalty.at < until)
        return await fetch_page(query, [Penalty.at, Penalty.id], window, descending=True)
