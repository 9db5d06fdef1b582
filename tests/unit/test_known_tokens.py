"""The known-tokens table is a data file beside its loader: every row is read, a broken row is named."""
from datetime import date

import pytest

from tgesweeper.matching import known_tokens


def test_the_shipped_table_says_where_it_comes_from_and_every_row_is_read():
    lines = known_tokens.TABLE.read_text(encoding="utf-8").splitlines()
    provenance = " ".join(line for line in lines if line.startswith("#"))
    assert "first traded" in provenance and "To update" in provenance
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")][1:]
    assert len(rows) > 300
    assert {ticker for ticker, _, _ in rows} == set(known_tokens.BY_TICKER)
    assert known_tokens.BY_TICKER["OP"].first_trading == date(2022, 5, 1)
    assert known_tokens.lookup("Elrond", None).ticker == "EGLD"


def test_a_table_is_read_with_first_line_winning(tmp_path):
    table = tmp_path / "tokens.tsv"
    table.write_text("# provenance\nticker\tnames\tfirst_trading\nAAVE\tAave\t2020-10\nLEND\tAave;EthLend\t2017-11\n"
                     "\n# a comment between rows\nZRO\tLayerZero\t2024-06\n", encoding="utf-8")
    by_ticker, by_name = known_tokens._load(table)
    assert set(by_ticker) == {"AAVE", "LEND", "ZRO"}
    assert by_name["aave"].ticker == "AAVE"
    assert by_name["ethlend"].ticker == "LEND"
    assert by_ticker["ZRO"].first_trading == date(2024, 6, 1)


@pytest.mark.parametrize("row", ["BTC\tBitcoin\t2010", "BTC\tBitcoin", "BTC\tBitcoin\tJuly 2010"])
def test_a_broken_row_is_named(tmp_path, row):
    table = tmp_path / "tokens.tsv"
    table.write_text(f"ticker\tnames\tfirst_trading\nETH\tEthereum\t2015-08\n{row}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"tokens.tsv: data row 2 is not ticker<TAB>names<TAB>YYYY-MM"):
        known_tokens._load(table)
