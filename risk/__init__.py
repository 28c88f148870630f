"""Pure numeric code for the Car Buyer loan program: money, amortisation, APR, servicing, risk models.

Nothing here imports Flask or SQLAlchemy, so every figure can be checked without a server or a database.
"""
