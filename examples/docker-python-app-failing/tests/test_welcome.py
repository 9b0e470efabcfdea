import unittest

from app import welcome


class WelcomeTest(unittest.TestCase):
    def test_named_user(self):
        self.assertEqual(welcome("Ada"), "Hello, Ada!")

    def test_greets_in_french(self):
        # Fails on purpose: the build must stop here, remove its container and push nothing.
        self.assertEqual(welcome("Ada"), "Bonjour, Ada !")


if __name__ == "__main__":
    unittest.main()
