"""Ukrainian texts. Grid lost / restored, schedule changed and low battery keep the wording of
the household's earlier bot (eamoon), so the messages read as they always have."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    "decimal_point": ",",
    "duration.dh": "{d}д {h}г",
    "duration.hm": "{h}г {m}хв",
    "duration.h": "{h}г",
    "duration.m": "{m}хв",
    "unknown": "невідомо",
    # -- сповіщення -------------------------------------------------------------------------------
    "alert.generic.firing": "🔔 {summary}",
    "alert.generic.resolved": "✅ Вирішено: {summary}",
    "alert.since": "З {time}",
    "alert.lasted": "Тривало {duration}",
    "alert.more": "… і ще {count} сповіщень, які Alertmanager не надіслав",
    "alert.GridDown.firing": "⚠️ Мережа зникла!",
    "alert.GridDown.advice": (
        "‼️ Увага: будь ласка, не користуйтеся духовкою, пральною машиною, електрочайником та "
        "іншими потужними приладами."
    ),
    "alert.GridDown.resolved": "✅ Мережу відновлено",
    "alert.PhaseNearFuse.firing": "⚡ Навантаження фази близьке до запобіжника: {target}",
    "alert.PhaseNearFuse.resolved": "✅ Навантаження фази знову в нормі: {target}",
    "alert.PhaseOverFuse.firing": "🚨 Навантаження фази перевищує запобіжник: {target}",
    "alert.PhaseOverFuse.advice": "Негайно вимкніть щось, інакше запобіжник може спрацювати.",
    "alert.PhaseOverFuse.resolved": "✅ Навантаження фази знову нижче запобіжника: {target}",
    "alert.PhaseImbalance.firing": "⚖️ Перекіс фаз: {target}",
    "alert.PhaseImbalance.resolved": "✅ Фази знову збалансовані: {target}",
    "alert.BatteryLow.firing": "🔋🔴 Низький рівень заряду батареї: {target}",
    "alert.BatteryLow.advice": (
        "Будь ласка, по можливості вимикайте непотрібні прилади та уникайте використання "
        "потужної техніки."
    ),
    "alert.BatteryLow.resolved": "🔋 Батарея знову заряджена: {target}",
    "alert.CellImbalance.firing": "🔋 Розбаланс комірок батареї: {target}",
    "alert.CellImbalance.resolved": "✅ Комірки батареї знову збалансовані: {target}",
    "alert.BatteryDischarging.firing": "🔋 Батарея розряджається: {target}",
    "alert.BatteryDischarging.resolved": "🔋 Батарея більше не розряджається: {target}",
    "alert.BatteryWillNotLastOutage.firing": (
        "🪫 Батареї не вистачить на наступне відключення: {target}"
    ),
    "alert.BatteryWillNotLastOutage.advice": (
        "Зменште споживання або зарядіть батарею, поки є мережа."
    ),
    "alert.BatteryWillNotLastOutage.resolved": (
        "✅ Батареї має вистачити на наступне відключення: {target}"
    ),
    "alert.OutageSoon.firing": "⏰ Скоро планове відключення: {target}",
    "alert.OutageSoon.advice": "Зарядіть те, що потрібно, зараз.",
    "alert.OutageSoon.resolved": "ℹ️ Попередження про відключення завершено: {target}",
    "alert.OutageScheduleChanged.firing": "⚠️ Графік відключень оновлено: {target}",
    "alert.OutageScheduleChanged.advice": "Новий графік: /schedule",
    "alert.OutageScheduleChanged.resolved": "ℹ️ Нових змін графіка немає: {target}",
    "alert.PeakShaving.firing": (
        "⚡ Зрізання піку: навантаження вимкнено до кінця години, "
        "щоб не зростала плата за потужність: {target}"
    ),
    "alert.PeakShaving.advice": "Увімкнуться самі, коли година закінчиться.",
    "alert.PeakShaving.resolved": (
        "✅ Зрізання піку завершено, навантаження знову увімкнено: {target}"
    ),
    "alert.SourceDown.firing": "📡 Немає даних від {target}",
    "alert.SourceDown.resolved": "✅ Дані від {target} знову надходять",
    "alert.ExporterDown.firing": "📡 Експортер gridwatch не відповідає",
    "alert.ExporterDown.advice": "Поки він не повернеться, немає ні даних, ні сповіщень про дім.",
    "alert.ExporterDown.resolved": "✅ Експортер gridwatch знову відповідає",
    "plugs.heading.off": "🔌 Вимикаю Tuya пристрої:",
    "plugs.heading.on": "🔌 Вмикаю Tuya пристрої:",
    "plugs.heading.mixed": "🔌 Перемикаю Tuya пристрої:",
    "plug.ok.off": "✓ {plug} вимкнено",
    "plug.ok.on": "✓ {plug} увімкнено",
    "plug.kept_off": "○ {plug} залишено вимкненим (було вимкнено до зникнення світла)",
    "plug.offline": "⚠️ {plug} (недоступно: {detail})",
    "plug.error": "✗ {plug} - помилка: {detail}",
    # -- бот: спільне -----------------------------------------------------------------------------
    "updated": "Останнє оновлення: {time}",
    "prometheus_down": "⚠️ Prometheus недоступний ({error})",
    "exporter_down": "⚠️ Експортер gridwatch недоступний ({error})",
    "alertmanager_down": "⚠️ Alertmanager недоступний ({error})",
    "no_exporter_data": "⚠️ У Prometheus немає даних від експортера gridwatch",
    "button.refresh": "🔄 Оновити",
    "refresh.updated": "✅ Оновлено",
    "refresh.unchanged": "Дані не змінились",
    "refresh.failed": "❌ Помилка оновлення",
    "unknown_command": "Такої команди я не знаю; /help покаже, що я вмію.",
    "start.hello": (
        "Вітаю! Я розповідаю про електрику вдома: мережа, батарея, відключення, ціни, розетки."
    ),
    "help.title": "Команди",
    "help.status": "мережа, потужність, батарея, розетки і відключення сьогодні",
    "help.battery": "заряд, напруга, струм і комірки батареї",
    "help.schedule": "графік відключень: сьогодні, завтра і що відомо далі",
    "help.prices": "ціна електроенергії зараз і найдешевші години",
    "help.alerts": "активні сповіщення",
    "help.plugs": "стан кожної розумної розетки",
    "help.help": "цей список",
    # -- /status ----------------------------------------------------------------------------------
    "status.grid_up": "✅ Мережа є",
    "status.grid_down": "🚨 Мережі немає",
    "status.grid_unknown": "❔ Стан мережі невідомий (немає даних з інвертора)",
    "status.since": "з {time}, {duration}",
    "power.line": "⚡ {name}: {parts}",
    "power.load": "навантаження {value}",
    "power.mains": "з мережі {value}",
    "power.pv": "сонце {value}",
    "meter.import": "🏠 Лічильник {name}: споживання {value}",
    "submeter.line": "↳ {name}: {value}",
    "meter.export": "🏠 Лічильник {name}: віддача {value}",
    "power.none": "⚡ Немає даних про потужність (ні інвертора, ні лічильника)",
    "status.battery": "🔋 {name}: {soc}",
    "status.plugs": "🔌 Розетки: {plugs}",
    "status.outages_today": "📅 Відключення сьогодні ({date})",
    # -- /battery ---------------------------------------------------------------------------------
    "battery.title": "🔋 Статус батареї",
    "battery.inverter": "Інвертор {name}",
    "battery.pack": "Батарея {name}",
    "battery.soc": "Рівень заряду: {soc} {emoji}",
    "battery.voltage": "Напруга батареї: {value}",
    "battery.charging": "Струм батареї: {value} (заряджається)",
    "battery.discharging": "Струм батареї: {value} (розряджається)",
    "battery.idle": "Струм батареї: {value} (спокій)",
    "battery.power": "Потужність: {value}",
    "battery.cells": "Комірок: {count}, різниця {delta}",
    "battery.temperature": "Температура: {value}",
    "battery.runtime": "Вистачить на {duration} при поточному споживанні",
    "battery.none": (
        "🔋 Дані по батареї зараз недоступні: ні інвертор, ні BMS не повідомляють про батарею."
    ),
    "battery.low": "‼️ Низький рівень заряду (< {threshold}%).",
    "battery.low_advice": (
        "Будь ласка, по можливості вимикайте непотрібні прилади та уникайте використання "
        "потужної техніки."
    ),
    "battery.outage_lasts": (
        "📅 Черга {queue}: батареї вистачить на {duration} при поточному навантаженні"
    ),
    "battery.outage_short": "⚠️ Черга {queue}: на наступне відключення батареї не вистачить",
    # -- /schedule --------------------------------------------------------------------------------
    "schedule.title": "📅 Графік відключень для черги {queue}",
    "schedule.day": "📆 {date}",
    "schedule.day_total": "📆 {date} (Всього: {total})",
    "schedule.none_planned": "✅ Відключень не заплановано",
    "schedule.not_published": "❔ Графік ще не опубліковано",
    "schedule.window_past": "✓ {start}–{end} ({duration}) - завершено",
    "schedule.window_now": "🔴 {start}–{end} ({duration}) - ЗАРАЗ",
    "schedule.window_future": "⏰ {start}–{end} ({duration})",
    "schedule.not_configured": "📅 Графік відключень на експортері не налаштовано.",
    "schedule.unavailable": "❔ Графік ще невідомий: оператор не відповів.",
    "schedule.source_down": "⚠️ Оператор не відповідає ({error}).",
    "schedule.fetched": "🕐 Оновлено: {time}",
    "schedule.emergency": "🚨 Аварійні відключення: графік не діє, світла може не бути будь-коли",
    "schedule.waiting": "⏳ Графік ще не затверджено",
    "schedule.window_preliminary": "◌ {start}–{end} ({duration}) - попередньо",
    "schedule.window_possible": "❓ {start}–{end} ({duration}) - можливе відключення",
    "schedule.next": "Наступне відключення: {start}–{end}",
    # -- /prices ----------------------------------------------------------------------------------
    "prices.title": "💰 Ціна електроенергії, {area}",
    "prices.now_total": "Зараз: {price} {unit} (спот {spot})",
    "prices.now_spot": "Зараз: {price} {unit} (спот, без зборів і ПДВ)",
    "prices.today": "Сьогодні: мінімум {min}, середня {mean}, максимум {max}",
    "prices.cheapest_title": "Найдешевше протягом відомих наступних 24 г:",
    "prices.cheapest": "{hours} г з {time}: у середньому {price}",
    "prices.next_title": "Наступні години:",
    "prices.next_hour": "{time}: {price}",
    "prices.tomorrow_yes": "Ціни на завтра опубліковано.",
    "prices.tomorrow_no": "Ціни на завтра ще не опубліковано.",
    "prices.none": "💰 Немає даних про ціни.",
    # -- /alerts ----------------------------------------------------------------------------------
    "alerts.title": "🔔 Активні сповіщення ({count})",
    "alerts.none": "✅ Активних сповіщень немає",
    "alerts.line": "{emoji} {title} (з {time})",
    # -- /plugs -----------------------------------------------------------------------------------
    "plugs.title": "🏠 Smart Devices",
    "plugs.none": "🔌 Розетки не налаштовано.",
    "plugs.line": "• {plug} ({group}): {state}",
    "plugs.override_done": (
        "✋ {plug} {state} на {minutes} хв; автоматика до того часу не втручається."
    ),
    "plugs.override_usage": ("Формат: /plugs НАЗВА on|off [30m|2h] (типово 1h)"),
    "plugs.override_off": (
        "Ручне керування потребує запланованих навантажень (automation: у конфігурації)."
    ),
    "plug_state.on": "✅ ON",
    "plug_state.off": "❌ OFF",
    "plug_state.offline": "⚠️ (недоступно)",
    "plug_state.error": "✗ помилка",
}
