"""The partnership's reference lists: employers, training programs and referral partners."""
