"""Admin texts whose Korean we supply ourselves instead of Django's.

Django's Korean catalog renders the title of a view-only change list, "Select %s
to view", as "보기위한 1%s 를(을) 선택" (a stray "1" and both particles). Our
catalog comes first (LOCALE_PATHS), so marking the msgid here lets makemessages
keep it in locale/ko with the right words. Nothing imports this module: the
marks are for makemessages, the lookup happens inside Django's admin.
"""

from django.utils.translation import gettext_noop

CORRECTED_DJANGO_ADMIN_TEXTS = (gettext_noop("Select %s to view"),)
