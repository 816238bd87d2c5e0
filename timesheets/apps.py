from django.apps import AppConfig


class TimesheetsConfig(AppConfig):
    name = "timesheets"
    verbose_name = "Timesheets"

    def ready(self):
        from . import receivers

        receivers.connect()
