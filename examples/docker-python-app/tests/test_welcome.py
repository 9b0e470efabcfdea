import unittest

from app import welcome


class WelcomeTest(unittest.TestCase):
    def test_named_user(self):
        self.assertEqual(welcome("Ada"), "Hello, Ada!")

    def test_blank_user_is_a_guest(self):
        self.assertEqual(welcome("  "), "Hello, guest!")


if __name__ == "__main__":
    unittest.main()
