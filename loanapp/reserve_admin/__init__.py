"""Work Train staff's view of the loan-loss reserve: pages, API and checks over ``reserve/``."""
