"""The file formats cxlog imports (issue #13): which column names each door
counter's and POS system's export uses. Plain data with no imports, so the
command line can list the presets without loading the importer (#16: a
scheduled export must not pay for pandas)."""

from __future__ import annotations

TRAFFIC, POS = "traffic", "pos"
# Accepted header names per field (compared ignoring case and spaces/underscores).
TRAFFIC_FORMATS: dict[str, dict[str, tuple[str, ...]]] = {
    "generic": {
        "store": ("store",),
        "start": ("start",),
        "end": ("end",),
        "in": ("in",),
        "out": ("out",),
    },
    "axis": {"start": ("timestamp",), "end": ("end",), "in": ("in",), "out": ("out",)},
    "hikvision": {
        "start": ("startTime",),
        "end": ("endTime",),
        "in": ("enterCount",),
        "out": ("exitCount",),
    },
    "retailnext": {
        "store": ("store", "store_name", "location"),
        "start": ("start", "start_time", "datetime", "timestamp"),
        "end": ("end", "end_time"),
        "in": ("traffic_in",),
        "out": ("traffic_out",),
    },
}
POS_FORMATS: dict[str, dict[str, tuple[str, ...]]] = {
    "generic": {
        "store": ("store",),
        "date": ("date",),
        "hour": ("hour",),
        "transactions": ("transactions",),
        "units": ("units",),
        "net_sales": ("net_sales",),
    },
    "shopify": {
        "store": ("pos_location_name", "location"),
        "date": ("day", "date"),
        "hour": ("hour", "hour_of_day"),
        "transactions": ("orders",),
        "units": ("net_quantity", "net_items_sold", "quantity"),
        "net_sales": ("net_sales",),
    },
    "square": {
        "store": ("location",),
        "date": ("date",),
        "hour": ("time", "hour"),
        "transactions": ("transactions", "transaction_count", "sales_count"),
        "units": ("items_sold", "item_count", "units_sold"),
        "net_sales": ("net_sales",),
    },
    "lightspeed": {
        "store": ("outlet", "shop", "location"),
        "date": ("date", "day"),
        "hour": ("hour",),
        "transactions": ("sales", "sale_count", "number_of_sales", "transactions"),
        "units": ("items_sold", "items", "quantity"),
        "net_sales": ("net_sales", "revenue", "revenue_excl_tax", "total_excl_tax"),
    },
}
