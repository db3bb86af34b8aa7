"""Opening hours that never close, for the demo and the tests, which run at any hour of any day."""


class AlwaysOpen:
    """Stands in for core.hours.OpeningHours: open all day, every day, never a holiday or a closed day."""

    @staticmethod
    def is_open(_moment) -> bool:
        return True

    @staticmethod
    def issues_tickets(_moment) -> bool:
        return True

    @staticmethod
    def holiday(_moment) -> None:
        return None

    @staticmethod
    def closed_day(_moment) -> None:
        return None
