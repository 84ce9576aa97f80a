# Dates and times as this project shows them in every language: ISO order, and a
# datetime always labelled with its zone (T: "KST" for Asia/Seoul), so the admin's
# lists and pages read 2026-12-08 00:00 KST.
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
TIME_FORMAT = "H:i"
