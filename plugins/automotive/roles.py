"""Who may do what on the sales floor (seed 003 R6's roles) and in the customer database (seed 002
part 1). A tenant builds its posts from these permissions; ``POSTS`` is the suggested set, which
the demo tenant and the tests use."""

from __future__ import annotations

from core.plugins import Permission

P = Permission

PERMISSIONS = (
    P("automotive.lead.write", "register walk-ins and calls, create lead cards, record follow-ups (销售顾问)",
      "登记来店来电客户、建立信息卡、记录回访（销售顾问）"),
    P("automotive.lead.sign", "sign lead cards and follow-up validity, reassign void cards, revoke cards (销售组长)",
      "签字确认信息卡及回访有效期、重新分配废卡、撤销信息卡（销售组长）"),
    P("automotive.lead.read", "read every lead card and the visit register (组长、经理、助理、信息员)",
      "查看全部信息卡及来店来电登记（组长、经理、助理、信息员）"),
    P("automotive.lead.settle", "settle a referred customer's owner with a team leader (销售经理, R6-11)",
      "与销售组长共同确认朋友介绍客户的归属（销售经理，R6-11）"),
    P("automotive.order.write", "draft orders and request order changes (销售顾问)", "起草订单、申请订单变更（销售顾问）"),
    P("automotive.order.sign", "sign orders and order changes (销售经理、销售组长)", "签字确认订单及订单变更（销售经理、销售组长）"),
    P("automotive.order.register", "register signed orders and receive delivery data (销售助理)",
      "登记已签字的订单、接收交车客户资料（销售助理）"),
    P("automotive.order.read", "read the order table and sold prices (组长、经理、助理 only, R6-34)",
      "查看订单表及成交价格（仅组长、经理、助理，R6-34）"),
    P("automotive.performance.cancel", "cancel a sale's performance and commission after a complaint (销售经理, R6-25)",
      "因客户投诉取消该车业绩及提成（销售经理，R6-25）"),
    P("automotive.payment.record", "record money received, GMAC payment reports, loan disbursements and deposit "
      "receipts (财务收银)", "登记到账、GMAC打款报告、放款及定金条（财务收银）"),
    P("automotive.delivery.release", "hand over the key and release a car (5S专员)", "交付钥匙、放行车辆（5S专员）"),
    P("automotive.stock.manage", "keep vehicles, keys, the inventory board and inventory reports (5S专员)",
      "管理车辆、钥匙、库存看板及库存报告（5S专员）"),
    P("automotive.stock.read", "read the inventory board (销售顾问)", "查看库存看板（销售顾问）"),
    P("automotive.test_drive.write", "take keys and run test drives (销售顾问)", "领用钥匙、进行试乘试驾（销售顾问）"),
    P("automotive.penalty.record", "record and cancel fines in the penalty ledger (销售经理)", "在罚款台账中登记、撤销罚款（销售经理）"),
    P("automotive.penalty.read", "read everyone's fines (销售经理、销售助理)", "查看全部罚款记录（销售经理、销售助理）"),
    P("automotive.report.read", "read the sales-floor KPIs and reports (销售经理、组长)", "查看销售部考核指标及报表（销售经理、组长）"),
    P("automotive.database.check", "record the weekly spot check of data-entry accuracy (客户总监, seed-002 R1-03)",
      "记录每周数据录入准确性抽查（客户总监）"),
    P("automotive.database.read", "read the accuracy checks and the database modification plans (客户部、客户总监、总经理)",
      "查看准确性抽查及数据库修改方案（客户部、客户总监、总经理）"),
    P("automotive.database.plan", "draft database modification plans, record department opinions, mark them "
      "implemented (客户部, R1-06)", "起草数据库修改方案、登记各部门意见、标记实施（客户部）"),
    P("automotive.database.plan.sign", "sign database modification plans (总经理, or 客户总监 as proxy; R1-06)",
      "签字批准数据库修改方案（总经理，或客户总监代理）"),
    P("automotive.database.backup", "record the monthly database backups and their restore drills (客户部, R1-08)",
      "登记每月数据库备份及恢复演练（客户部）"),
    P("automotive.database.apply", "apply to 客户部 to change or extract database data (every department, R1-04)",
      "向客户部申请修改或调用数据库数据（各部门）"),
    P("automotive.database.extract.sign", "sign or refuse applications to change or extract database data (总经理、客户总监, "
      "R1-09)", "签字批准或拒绝修改、调用数据库数据的申请（总经理、客户总监）"),
    P("automotive.database.release", "release the data of a signed extract (客户部, R1-09)", "发放已批准调用的数据（客户部）"),
    P("automotive.archivist.handover", "record an archivist's formal handover on transfer (客户总监, R1-15)",
      "登记档案管理员调动时的正式交接（客户总监）"),
)

_CUSTOMER = ("customer.read", "customer.write")
# Suggested posts: permission -> scope ("own" keeps a consultant to their own cards and orders).
POSTS: dict[str, dict[str, str]] = {
    "consultant": {"automotive.database.apply": "tenant", "automotive.decoration.write": "tenant", "automotive.lead.write": "own", "automotive.order.write": "own", "automotive.test_drive.write": "tenant",
                   "automotive.stock.read": "tenant", **{c: "tenant" for c in _CUSTOMER}},
    "leader": {"automotive.database.apply": "tenant", "automotive.decoration.cosign": "tenant", "automotive.evaluation.record": "tenant",
               "automotive.lead.write": "tenant", "automotive.lead.sign": "tenant", "automotive.lead.read": "tenant",
               "automotive.order.sign": "tenant", "automotive.order.read": "tenant", "automotive.report.read": "tenant",
               "automotive.stock.read": "tenant", "privacy.archive.approve": "tenant", **{c: "tenant" for c in _CUSTOMER}},
    "manager": {"automotive.database.apply": "tenant", "automotive.decoration.sign_manager": "tenant", "automotive.expense.approve": "tenant",
                "automotive.lead.sign": "tenant", "automotive.lead.settle": "tenant", "automotive.performance.cancel": "tenant", "automotive.lead.read": "tenant", "automotive.order.sign": "tenant",
                "automotive.order.read": "tenant", "automotive.penalty.record": "tenant",
                "automotive.penalty.read": "tenant", "automotive.report.read": "tenant",
                "automotive.exception.approve": "tenant", "automotive.stock.read": "tenant",
                "automotive.stock.approve": "tenant", "privacy.archive.approve": "tenant", **{c: "tenant" for c in _CUSTOMER}},
    "assistant": {"automotive.database.apply": "tenant", "automotive.decoration.cosign": "tenant", "automotive.order.register": "tenant", "automotive.order.read": "tenant",
                  "automotive.lead.read": "tenant", "automotive.penalty.read": "tenant", "automotive.stock.read": "tenant",
                  "automotive.tools.keep": "tenant", "privacy.archive.lend": "tenant", "privacy.archive.keep": "tenant",
                  **{c: "tenant" for c in _CUSTOMER}},
    "cashier": {"automotive.payment.record": "tenant", "customer.read": "tenant"},
    # the customer database of seed 002 part 1 and customer-data lending (R6-61 to R6-63, core's register)
    "customer_director": {"automotive.database.check": "tenant", "automotive.database.read": "tenant",
                          "automotive.database.extract.sign": "tenant", "automotive.archivist.handover": "tenant",
                          # R1-01: the customer director approves user permissions (core's roleChangeApprove, roleGrant)
                          "role.read": "tenant", "role.grant": "tenant", "user.read": "tenant",
                          "automotive.database.plan.sign": "tenant", "privacy.archive.external": "tenant",
                          "privacy.archive.ban.lift": "tenant", "privacy.archive.approve": "tenant",
                          **{c: "tenant" for c in _CUSTOMER}},
    "general_manager": {"automotive.expense.approve_gm": "tenant", "automotive.database.read": "tenant", "automotive.database.plan.sign": "tenant",
                        "role.read": "tenant", "role.grant": "tenant", "user.read": "tenant",
                        "automotive.database.extract.sign": "tenant", "privacy.archive.external": "tenant", "privacy.archive.ban.lift": "tenant",
                        "customer.read": "tenant"},
    "customer_dept": {"automotive.database.plan": "tenant", "automotive.database.read": "tenant",
                      "automotive.database.backup": "tenant", "automotive.database.release": "tenant",
                      **{c: "tenant" for c in _CUSTOMER}},
    "officer": {"automotive.delivery.release": "tenant", "automotive.stock.manage": "tenant",
                "automotive.stock.read": "tenant", "customer.read": "tenant"},
    "market": {"automotive.market.manage": "tenant", "automotive.report.read": "tenant"},
    "big_account": {"automotive.big_account.report": "tenant", "automotive.lead.write": "own",
                    "customer.read": "tenant"},
}
