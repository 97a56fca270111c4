"""The Ystad demo: approximate geography of LPO Ystad and synthetic reports with believable patterns.

Everything here is made up for demonstrations and tests; ``samverkan demo`` loads it.
"""
