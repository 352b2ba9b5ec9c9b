from tokens import secret_format as fmt


def test_new_personal_token_has_prefix_random_body_and_checksum():
    raw = fmt.generate(fmt.PERSONAL_TOKEN)
    assert raw.startswith("kw_pat_")
    assert len(raw) == len("kw_pat_") + 30 + 6
    assert fmt.is_well_formed(raw, fmt.PERSONAL_TOKEN)


def test_random_part_carries_at_least_160_bits():
    assert 62**fmt.RANDOM_LENGTH >= 2**160


def test_one_typo_breaks_the_checksum():
    raw = fmt.generate(fmt.PERSONAL_TOKEN)
    position = len("kw_pat_") + 5
    typo = raw[:position] + ("A" if raw[position] != "A" else "B") + raw[position + 1 :]
    assert not fmt.is_well_formed(typo, fmt.PERSONAL_TOKEN)


def test_wrong_prefix_or_length_is_not_well_formed():
    raw = fmt.generate(fmt.PERSONAL_TOKEN)
    assert not fmt.is_well_formed(raw, fmt.REFRESH_TOKEN)
    assert not fmt.is_well_formed(raw + "x", fmt.PERSONAL_TOKEN)


def test_two_secrets_differ():
    assert fmt.generate(fmt.PERSONAL_TOKEN) != fmt.generate(fmt.PERSONAL_TOKEN)


def test_the_digest_is_the_sha256_django_oauth_toolkit_stores():
    import hashlib

    for raw in [fmt.generate(fmt.PERSONAL_TOKEN) for _ in range(20)] + ["", "é legacy ünïcode"]:
        assert fmt.digest(raw) == hashlib.sha256(raw.encode("utf-8")).hexdigest()
