"""The run's date is the date in Asia/Jakarta: the nightly run at 01:00 WIB is the previous day in UTC."""

import datetime as dt

from dtsen_pipeline.clock import local_date, utc_now


def test_the_first_night_of_a_month_belongs_to_that_month():
    one_am_wib_on_the_first = dt.datetime(2026, 12, 31, 18, 0, tzinfo=dt.UTC)  # 01:00 WIB, 1 January
    assert local_date(one_am_wib_on_the_first) == dt.date(2027, 1, 1)
    assert local_date(one_am_wib_on_the_first.replace(tzinfo=None)) == dt.date(2027, 1, 1)  # naive = UTC
    assert local_date(dt.datetime(2026, 12, 31, 16, 59, tzinfo=dt.UTC)) == dt.date(2026, 12, 31)


def test_utc_now_is_naive_utc():
    now = utc_now()
    assert now.tzinfo is None
    assert abs((dt.datetime.now(dt.UTC).replace(tzinfo=None) - now).total_seconds()) < 5
